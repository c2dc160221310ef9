//! serde adapters for Q16.16 values as fixed 4-byte little-endian raw bits.
//!
//! Hand-written because neither `fixed`'s serde support (a struct holding a varint) nor postcard's
//! `fixint` (plain integers only) encodes a `heapless::Vec<I16F16, N>` as fixed-width raw bits. On the wire a
//! value is `[u8; 4]` (postcard: 4 raw bytes) and a vector is a varint length followed by that many.

/// One `I16F16` as 4 bytes little-endian (`#[serde(with = "wire::fix")]`).
pub(crate) mod fix {
    use fixed::types::I16F16;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &I16F16, s: S) -> Result<S::Ok, S::Error> {
        v.to_bits().to_le_bytes().serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<I16F16, D::Error> {
        <[u8; 4]>::deserialize(d).map(|b| I16F16::from_bits(i32::from_le_bytes(b)))
    }
}

/// A `heapless::Vec<I16F16, N>` as a length and 4 bytes little-endian per value
/// (`#[serde(with = "wire::fix_vec")]`). Decoding more than `N` values is an error, not a truncation.
pub(crate) mod fix_vec {
    use core::fmt;
    use core::marker::PhantomData;

    use fixed::types::I16F16;
    use heapless::Vec;
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        v: &Vec<I16F16, N>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&x.to_bits().to_le_bytes())?;
        }
        seq.end()
    }

    struct FixVecVisitor<const N: usize>(PhantomData<[I16F16; N]>);

    impl<'de, const N: usize> Visitor<'de> for FixVecVisitor<N> {
        type Value = Vec<I16F16, N>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "at most {N} Q16.16 values")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(bytes) = seq.next_element::<[u8; 4]>()? {
                out.push(I16F16::from_bits(i32::from_le_bytes(bytes)))
                    .map_err(|_| A::Error::invalid_length(N + 1, &self))?;
            }
            Ok(out)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Vec<I16F16, N>, D::Error> {
        d.deserialize_seq(FixVecVisitor::<N>(PhantomData))
    }
}
