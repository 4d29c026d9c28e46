"""`eldercare telegram`: the advisor on Telegram (python-telegram-bot 22).

The Telegram adapter of the channel core (channels/core/chat.py, which relays to the advisor and
handles text, voice and photos for every platform): Telegram's updates become core turns, and the
core's messages become Telegram messages — inline keyboards one button per row with their numbers
(callback data is a short id resolved in the database, never the payload), a tapped button marked
✅, the typing indicator. One conversation per chat (per user in a group); a chat's messages are
handled in order, different chats at once.
"""
from __future__ import annotations

import asyncio
import logging
import secrets

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ChatType
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes,
                          MessageHandler, filters)

from channels.core import speech
from channels.core.advisor import AdvisorClient
from channels.core.chat import ChatCore, Choices
from channels.core.words import WORDS
from storage.bookings import BookingStore
from storage.db import migrated_engine
from storage.masking import install as install_log_masking
from storage.settings import Settings
from storage.telegram_buttons import Button, ButtonStore

logger = logging.getLogger(__name__)

COMMANDS = [("start", "开始"), ("help", "怎么用"), ("restart", "重新开始"), ("status", "我的预约和申请"),
            ("stop", "不用再提醒我")]


def chat_key(update: Update) -> str:
    chat, user = update.effective_chat, update.effective_user
    if chat.type == ChatType.PRIVATE or user is None:
        return f"tg-{chat.id}"
    return f"tg-{chat.id}-{user.id}"   # in a group, one conversation per person


class TelegramOutbox:
    """The core's messages as Telegram messages in one chat."""

    def __init__(self, bot, chat_id: int, key: str, buttons: ButtonStore):
        self.bot, self.chat_id, self.key, self.buttons = bot, chat_id, key, buttons

    async def say(self, text: str, choices: Choices = (), local: bool = False) -> None:
        # buttons are stored off the event loop: a database write must not stall other chats
        stored = await asyncio.to_thread(self.buttons.add, self.key, list(choices), local) if choices else []
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(b.title, callback_data=f"b:{b.id}")] for b in stored]) \
            if stored else None
        sent = await self.bot.send_message(self.chat_id, text, reply_markup=markup)
        if stored:
            await asyncio.to_thread(self.buttons.attach, stored, sent.message_id)

    async def typing(self) -> None:
        await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING)

    async def mark_chosen(self, chosen: Button) -> None:
        keyboard = await asyncio.to_thread(self.buttons.keyboard, self.key, chosen.message_id)
        rows = [[InlineKeyboardButton((WORDS["chosen"] if b.id == chosen.id else "") + b.title,
                                      callback_data=f"b:{b.id}")] for b in keyboard]
        try:
            await self.bot.edit_message_reply_markup(self.chat_id, chosen.message_id,
                                                     reply_markup=InlineKeyboardMarkup(rows))
        except Exception:   # an old message may no longer be editable: the tap still counts
            logger.debug("could not mark the chosen button")


class Bridge:
    def __init__(self, core: ChatCore):
        self.core = core

    def _turn(self, update: Update, context) -> tuple[str, TelegramOutbox]:
        key = chat_key(update)
        return key, TelegramOutbox(context.bot, update.effective_chat.id, key, self.core.buttons)

    async def on_command(self, update: Update, context):
        key, out = self._turn(update, context)
        name = (update.effective_message.text or "/").split()[0][1:].split("@")[0]
        await self.core.command(key, name, out)

    async def on_text(self, update: Update, context):
        key, out = self._turn(update, context)
        await self.core.text(key, update.effective_message.text or "", out)

    async def on_callback(self, update: Update, context):
        query = update.callback_query
        await query.answer()   # at once: the elder's tap is acknowledged before anything slow
        key, out = self._turn(update, context)
        data = query.data or ""
        await self.core.tap(key, int(data[2:]) if data.startswith("b:") and data[2:].isdigit() else -1, out,
                            chosen=out.mark_chosen)

    async def on_voice(self, update: Update, context):
        key, out = self._turn(update, context)
        voice = update.effective_message.voice or update.effective_message.audio

        async def fetch() -> bytes:
            return bytes(await (await voice.get_file()).download_as_bytearray())
        await self.core.voice(key, out, fetch, voice.duration, voice.file_size)

    async def on_photo(self, update: Update, context):
        key, out = self._turn(update, context)
        message = update.effective_message
        media = message.photo[-1] if message.photo else message.document

        async def fetch() -> bytes:
            return bytes(await (await media.get_file()).download_as_bytearray())   # in memory only
        await self.core.photo(key, out, fetch)

    async def on_other(self, update: Update, context):
        _key, out = self._turn(update, context)
        await self.core.other(out)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Never a stack trace to an elder: a short apology; the log has the error, masked."""
    logger.error("handling an update failed: %s", type(context.error).__name__)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, WORDS["sorry"])
        except Exception:
            pass


async def _post_init(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
    stt = app.bot_data.get("stt")
    if stt is not None:
        await stt.start()   # the speech model loads in its worker now, not on the first note


async def _post_shutdown(app: Application) -> None:
    stt = app.bot_data.get("stt")
    if stt is not None:
        stt.close()


def build(token: str, advisor_url: str, base_url: str | None = None, settings: Settings | None = None) -> Application:
    settings = settings or Settings.from_env()
    engine = migrated_engine(settings.db_url)
    stt = speech.Transcriber.from_env()
    bridge = Bridge(ChatCore(AdvisorClient(advisor_url), ButtonStore(engine), BookingStore(engine), stt))
    builder = ApplicationBuilder().token(token).concurrent_updates(True).post_init(_post_init) \
        .post_shutdown(_post_shutdown)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_url.rsplit("/bot", 1)[0] + "/file/bot")
    app = builder.build()
    app.bot_data["stt"] = stt
    app.add_handler(CommandHandler([c for c, _ in COMMANDS], bridge.on_command))
    app.add_handler(CallbackQueryHandler(bridge.on_callback))
    app.add_handler(MessageHandler(filters.VOICE | filters.AUDIO, bridge.on_voice))
    app.add_handler(MessageHandler(filters.PHOTO | filters.Document.IMAGE, bridge.on_photo))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, bridge.on_text))
    app.add_handler(MessageHandler(filters.ALL, bridge.on_other))
    app.add_error_handler(_on_error)
    return app


def quiet_logs() -> None:
    """No request URL (which carries the token) and no personal number in any log line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "tornado.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_log_masking()


def run(token: str, advisor_url: str, base_url: str | None = None, webhook: str | None = None,
        listen: str = "127.0.0.1", port: int = 8443, secret: str | None = None) -> int:
    quiet_logs()
    app = build(token, advisor_url, base_url)
    if webhook:
        # Telegram sends the secret in X-Telegram-Bot-Api-Secret-Token; a request without it gets
        # 403 from python-telegram-bot's webhook server and reaches no handler.
        app.run_webhook(listen=listen, port=port, url_path="telegram", webhook_url=webhook,
                        secret_token=secret or secrets.token_urlsafe(32), drop_pending_updates=False)
    else:
        logger.info("telegram bridge polling; advisor at %s", advisor_url)
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
