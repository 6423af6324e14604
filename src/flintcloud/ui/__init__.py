"""The web UI: static files only (HTML, CSS, JavaScript modules in `static/`), served by the
service at `/ui/` and talking to its API from the browser. No Python imports it; the service
finds the files as package data. Nothing here is fetched from the network at run time."""
