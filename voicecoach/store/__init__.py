"""What is kept on the user's machine: the call record, the history of calls, and
the voice profile. Files here hold calls: they are readable by the user alone."""
