"""Request and response models of the BGW API, one module per resource."""
