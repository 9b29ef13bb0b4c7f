"""`pbx console`: a Textual client of the daemon API. Entry point: `console.app.run_console`."""
