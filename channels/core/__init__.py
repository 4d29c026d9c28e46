"""What every messaging channel shares (Telegram, WeChat): relaying to the advisor, replies as text
with numbered choices, voice and photo handling. Platform adapters hold only their protocol."""
