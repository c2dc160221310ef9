//! Projections (to be written).
