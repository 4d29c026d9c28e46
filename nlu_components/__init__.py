"""The thin Rasa 3.6 NLU components around `understanding` (config.yml names them)."""
