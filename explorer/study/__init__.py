"""The findings study: its grid and measures, the runner, frames and readings. May import every layer below."""
