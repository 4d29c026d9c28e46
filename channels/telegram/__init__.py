"""The Telegram channel: a python-telegram-bot 22 bridge to the advisor's REST channel."""
