/* Placeholder: the strict codec lands here. */
