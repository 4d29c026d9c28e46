"""`eldercare telegram`: the advisor on Telegram (python-telegram-bot 22).

Each message is relayed to the running advisor's REST channel and its replies are rendered
for elders: short messages, inline keyboards one button per row with their numbers (callback
data is a short id resolved in the database, never the payload), typed numbers, a typing
indicator, voice notes through speech-to-text (what was heard is shown), 身份证 photos read by
OCR (shown masked, confirmed before use). One conversation per chat (per user in a group);
a chat's messages are handled in order, different chats at once.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import defaultdict

import httpx
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ChatType
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes,
                          MessageHandler, filters)

from policy_kb import clock
from storage.bookings import KIND_LABELS, STATUS_LABELS, BookingStore
from storage.db import migrated_engine
from storage.masking import install as install_log_masking
from storage.masking import mask_phone
from storage.settings import Settings
from storage.telegram_buttons import ButtonStore
from understanding.choices import choice_number

from . import id_photo, speech
from .render import telegram_messages

logger = logging.getLogger(__name__)

WORDS = {
    "start": "我是苏州养老政策顾问：说说老人的情况，我告诉您能享受哪些补贴和服务，还能帮您预约。\n"
             "直接打字、发语音，或者点按钮都行。",
    "heard": "我听到的是：{text}",
    "voice_off": "不好意思，这里还不能听语音。请打字告诉我，比如「我妈85岁，住姑苏区」。",
    "voice_unclear": "不好意思，这段语音没听清，请再说一次，或者打字告诉我。",
    "id_found": "{masked}，{age}岁，对吗？",
    "id_not_found": "没在照片上找到身份证号码。可以再拍清楚一点，或者直接告诉我老人的年龄。",
    "id_wrong": "好的，请直接告诉我老人今年多大岁数。",
    "id_yes": "对",
    "id_no": "不对",
    "other": "不好意思，我只看得懂文字、语音和身份证照片。请打字或发语音告诉我。",
    "old_button": "这个按钮已经过期了，请看最新的消息，或者直接打字。",
    "advisor_down": "不好意思，顾问暂时连不上，请稍后再试。",
    "no_bookings": "这个对话里还没有预约或申请。",
    "booking_line": "{kind} {reference}：{status}，电话 {phone}",
    "chosen": "✅ ",
    "sorry": "不好意思，刚才出了点问题，请再说一次。",
}
COMMANDS = [("start", "开始"), ("help", "怎么用"), ("restart", "重新开始"), ("status", "我的预约和申请"),
            ("stop", "不用再提醒我")]
STOP_WORDS = "不用提醒了"   # /stop: said to the advisor in words, which ends the reminders (actions/reminders.py)
LOCAL = "local:"   # payloads the bridge answers itself


def chat_key(update: Update) -> str:
    chat, user = update.effective_chat, update.effective_user
    if chat.type == ChatType.PRIVATE or user is None:
        return f"tg-{chat.id}"
    return f"tg-{chat.id}-{user.id}"   # in a group, one conversation per person


class Bridge:
    def __init__(self, advisor_url: str, buttons: ButtonStore, bookings: BookingStore, stt):
        self.advisor_url = advisor_url.rstrip("/")
        self.buttons, self.bookings, self.stt = buttons, bookings, stt
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.http = httpx.AsyncClient(timeout=60)

    # --- talking to the advisor -------------------------------------------------------------
    async def relay(self, key: str, text: str) -> list[dict] | None:
        try:
            reply = await self.http.post(f"{self.advisor_url}/webhooks/rest/webhook",
                                         json={"sender": key, "message": text})
            if reply.status_code != 503:   # 503 carries the advisor's own apology (a service is down)
                reply.raise_for_status()
            return reply.json()
        except (httpx.HTTPError, ValueError):
            logger.warning("advisor unreachable for one chat")
            return None

    async def show(self, update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, messages: list[dict] | None):
        chat_id = update.effective_chat.id
        if messages is None:
            await context.bot.send_message(chat_id, WORDS["advisor_down"])
            return
        for text, buttons in telegram_messages(messages):
            await self.send(context, chat_id, key, text, buttons)

    async def send(self, context, chat_id: int, key: str, text: str, buttons: list[tuple[str, str]],
                   local: bool = False) -> None:
        stored = self.buttons.add(key, buttons, local=local) if buttons else []
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(b.title, callback_data=f"b:{b.id}")] for b in stored]) \
            if stored else None
        sent = await context.bot.send_message(chat_id, text, reply_markup=markup)
        if stored:
            self.buttons.attach(stored, sent.message_id)

    async def converse(self, update: Update, context, key: str, text: str) -> None:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
        await self.show(update, context, key, await self.relay(key, text))

    # --- handlers ------------------------------------------------------------------------------
    async def on_start(self, update: Update, context):
        key = chat_key(update)
        async with self.locks[key]:
            await context.bot.send_message(update.effective_chat.id, WORDS["start"])
            await self.converse(update, context, key, "/ask_recommendation")

    async def on_help(self, update: Update, context):
        key = chat_key(update)
        async with self.locks[key]:
            await self.converse(update, context, key, "/help")

    async def on_restart(self, update: Update, context):
        key = chat_key(update)
        async with self.locks[key]:
            await self.converse(update, context, key, "/restart")

    async def on_stop(self, update: Update, context):
        key = chat_key(update)
        async with self.locks[key]:
            await self.converse(update, context, key, STOP_WORDS)

    async def on_status(self, update: Update, context):
        key = chat_key(update)
        found = await asyncio.to_thread(self.bookings.list, sender_id=key)
        lines = [WORDS["booking_line"].format(kind=KIND_LABELS[b.kind], reference=b.reference,
                                              status=STATUS_LABELS[b.status], phone=mask_phone(b.phone))
                 for b in found]
        await context.bot.send_message(update.effective_chat.id, "\n".join(lines) or WORDS["no_bookings"])

    async def on_text(self, update: Update, context):
        key = chat_key(update)
        text = update.effective_message.text or ""
        async with self.locks[key]:
            number = choice_number(text)
            latest = await asyncio.to_thread(self.buttons.latest, key) if number else []
            chosen = next((b for b in latest if b.position == number), None)
            if chosen:   # a typed number picks from the last keyboard, whoever sent it
                await self.press(update, context, key, chosen)
                return
            await self.converse(update, context, key, text)

    async def on_callback(self, update: Update, context):
        query = update.callback_query
        await query.answer()   # at once: the elder's tap is acknowledged before anything slow
        key = chat_key(update)
        async with self.locks[key]:
            data = query.data or ""
            button = await asyncio.to_thread(self.buttons.get, key, int(data[2:])) \
                if data.startswith("b:") and data[2:].isdigit() else None
            if button is None:
                await context.bot.send_message(update.effective_chat.id, WORDS["old_button"])
                return
            await self.mark_chosen(context, update.effective_chat.id, key, button)
            await self.press(update, context, key, button)

    async def mark_chosen(self, context, chat_id: int, key: str, chosen) -> None:
        keyboard = await asyncio.to_thread(self.buttons.keyboard, key, chosen.message_id)
        rows = [[InlineKeyboardButton((WORDS["chosen"] if b.id == chosen.id else "") + b.title,
                                      callback_data=f"b:{b.id}")] for b in keyboard]
        try:
            await context.bot.edit_message_reply_markup(chat_id, chosen.message_id,
                                                        reply_markup=InlineKeyboardMarkup(rows))
        except Exception:   # an old message may no longer be editable: the tap still counts
            logger.debug("could not mark the chosen button")

    async def press(self, update: Update, context, key: str, button) -> None:
        if button.payload.startswith(LOCAL):
            if button.payload == LOCAL + "id_wrong":
                await context.bot.send_message(update.effective_chat.id, WORDS["id_wrong"])
            return
        await self.converse(update, context, key, button.payload)

    async def on_voice(self, update: Update, context):
        key = chat_key(update)
        chat_id = update.effective_chat.id
        async with self.locks[key]:
            if self.stt is None:
                await context.bot.send_message(chat_id, WORDS["voice_off"])
                return
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            voice = update.effective_message.voice or update.effective_message.audio
            data = bytes(await (await voice.get_file()).download_as_bytearray())
            try:
                text = await asyncio.to_thread(lambda: self.stt.transcribe(speech.to_wav16k(data)))
            except Exception:
                logger.warning("a voice note could not be transcribed")
                text = ""
            if not text.strip():
                await context.bot.send_message(chat_id, WORDS["voice_unclear"])
                return
            await context.bot.send_message(chat_id, WORDS["heard"].format(text=text))  # a mistake is visible
            await self.show(update, context, key, await self.relay(key, text))

    async def on_photo(self, update: Update, context):
        key = chat_key(update)
        chat_id = update.effective_chat.id
        message = update.effective_message
        async with self.locks[key]:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            media = message.photo[-1] if message.photo else message.document
            data = bytes(await (await media.get_file()).download_as_bytearray())   # in memory only
            try:
                found = await asyncio.to_thread(id_photo.read_id, data, clock.today())
            except Exception:
                logger.warning("a photo could not be read")
                found = None
            del data
            if found is None:
                await context.bot.send_message(chat_id, WORDS["id_not_found"])
                return
            await self.send(context, chat_id, key, WORDS["id_found"].format(masked=found.masked, age=found.age),
                            [(f"1. {WORDS['id_yes']}", "/inform" + json.dumps({"age": found.age})),
                             (f"2. {WORDS['id_no']}", LOCAL + "id_wrong")], local=True)

    async def on_other(self, update: Update, context):
        await context.bot.send_message(update.effective_chat.id, WORDS["other"])


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


def build(token: str, advisor_url: str, base_url: str | None = None, settings: Settings | None = None) -> Application:
    settings = settings or Settings.from_env()
    engine = migrated_engine(settings.db_url)
    bridge = Bridge(advisor_url, ButtonStore(engine), BookingStore(engine), speech.load_engine())
    builder = ApplicationBuilder().token(token).concurrent_updates(True).post_init(_post_init)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_url.rsplit("/bot", 1)[0] + "/file/bot")
    app = builder.build()
    app.add_handler(CommandHandler("start", bridge.on_start))
    app.add_handler(CommandHandler("help", bridge.on_help))
    app.add_handler(CommandHandler("restart", bridge.on_restart))
    app.add_handler(CommandHandler("status", bridge.on_status))
    app.add_handler(CommandHandler("stop", bridge.on_stop))
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
