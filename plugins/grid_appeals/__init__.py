"""grid_appeals: the customer-appeal data platform package."""
