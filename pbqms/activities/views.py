"""Views — HTTP around services and selectors."""
