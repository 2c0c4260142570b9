"""Helpers for the end-to-end tests: a fake Clockify upstream, throwaway certificates, and
a real `clockify-proxy` subprocess."""
