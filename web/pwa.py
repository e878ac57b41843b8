"""What makes the web app installable and usable offline: the service worker at the site root."""

PWA_ROUTES: list = []
