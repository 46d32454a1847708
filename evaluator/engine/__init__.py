"""The evaluation engine: load a model, stream a test set through it, store predictions, score them.

It knows the plugins and nothing of Django, so the server, the worker and `manage.py evaluate` share it.
"""
