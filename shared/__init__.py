"""hfproxy core: a pure WSGI application that keeps the Hugging Face token server-side.

Nothing here knows which platform it runs on; adapters in ``functions/`` wrap ``shared.app:app``.
Keep this file import-free: cold start is a product feature.
"""

__version__ = "0.1.0"
