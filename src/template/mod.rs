//! `{{variable}}` templates: parsing, rendering, captures.
