"""What the Lambda handlers in functions/ share: one shape per event source."""
