"""The command line (`eldercare`), the process supervisor and `make eval`: on top, imported by nothing."""
