"""Which instance keeps which model: leases on the shared state, spread evenly, fenced."""
