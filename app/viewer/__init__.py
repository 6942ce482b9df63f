"""The share viewer: what an officer opens from a share link (pages, downloads, passcode)."""
