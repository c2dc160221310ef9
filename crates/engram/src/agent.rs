//! The closed loop (to be written).
