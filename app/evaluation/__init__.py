"""Evaluation helpers: the development evaluation set (data/eval/) and ASR-style noise.

``from app.evaluation import make_asr, widen`` works; the names load lazily so that
``python -m app.evaluation.noise`` runs without a double import.
"""
__all__ = ["load_eval_set", "load_noise_table", "make_asr", "widen"]


def __getattr__(name):
    if name in __all__:
        from app.evaluation import noise
        return getattr(noise, name)
    raise AttributeError(name)
