//! Environments, encoders, decoders (to be written).
