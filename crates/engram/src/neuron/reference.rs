//! Float reference models (stub; to be written).
