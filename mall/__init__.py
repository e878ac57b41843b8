"""The community domain and composition root: people, earning, redemption, codes, settings, CLI."""
