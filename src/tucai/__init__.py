"""tucai (图采): graduate diploma-photo capture campaigns, end to end."""

__version__ = "0.1.0"
