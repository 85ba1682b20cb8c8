"""Hosted providers' clients: the fine-tuning services that still take new jobs, beside OpenAI.

    core/hosted/common.py     errors told in one sentence, key scrubbing, provider data rules
    core/hosted/together.py   Together (PyPI ``together``): files, fine-tunes, checkpoints, chat URL
    core/hosted/fireworks.py  Fireworks (PyPI ``fireworks-ai``): datasets, SFT jobs, resume, deploy
    core/hosted/models.py     app side: the key into the subprocess, fine-tunes into the registry, chat

Each module drives the provider's official client (pinned in requirements.txt) and raises only
``core.hosted.common.HostedError`` subclasses, so the training backends
(core/training/backends/together_backend.py, fireworks_backend.py), the CLI and the pages all show the same
sentence. Keys come from the environment or an explicit argument and are never written anywhere.
Tests drive the real clients against fakes on 127.0.0.1 (tests/fake_together.py, fake_fireworks.py).
"""
