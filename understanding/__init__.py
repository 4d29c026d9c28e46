"""Chinese text understanding, pure Python (no Rasa): normalising voice-to-text and typed
text, numbers, profile facts, booking answers. Word lists are YAML beside the code."""
