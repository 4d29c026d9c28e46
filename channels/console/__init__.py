"""The operator console: the advisor as a phone-line script, in the browser (`eldercare console`)."""
