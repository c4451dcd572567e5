import sys

from voicecoach.cli import main

sys.exit(main())
