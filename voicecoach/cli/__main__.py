"""``python -m voicecoach.cli``, as it ran when the command was the module ``cli.py``."""
import sys

from voicecoach.cli import main

sys.exit(main())
