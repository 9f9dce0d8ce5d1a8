"""The traveller-facing window: large text, two languages, one screen per lane state."""
