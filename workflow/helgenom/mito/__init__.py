"""Mitochondrial variant calls with heteroplasmy levels (`helgenom mito-call`)."""
