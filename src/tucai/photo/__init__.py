"""tucai.photo — the photo library. Imports no Django: decoding, face analysis, checks against the
CHSI spec, normalisation to 480×640, print-sheet layouts. Usable from a worker or a command."""
