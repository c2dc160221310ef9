//! Checkpoints in flash: power cut at every step of a sequence of saves, integrity refusals, decay.

use embedded_storage::nor_flash::NorFlash;
use engram_board::checkpoint::{FORMAT_VERSION, HEADER_LEN, MAGIC};
use engram_board::{
    CheckpointError, CheckpointStore, Region, Restored, Seq, SimFlash, SimFlashError,
};

const MODEL: u64 = 0x0123_4567_89AB_CDEF;

/// Save `k`'s payload: distinct in every byte position from every other save's (so a mix of two
/// checkpoints can never equal either).
fn payload(k: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let x =
                (i as u32).wrapping_mul(0x9E37_79B9) ^ k.wrapping_mul(0x85EB_CA6B).rotate_left(7);
            (x >> 13) as u8 ^ (k as u8).wrapping_mul(31).wrapping_add(1)
        })
        .collect()
}

/// Outcome counts of one power-cut sweep.
#[derive(Debug, Default)]
struct Sweep {
    cuts: u32,
    restored_previous: u32,
    restored_torn_save: u32,
    restored_nothing: u32,
}

/// Runs `saves` saves of `len` bytes on a fresh flash with the power cut after `n` steps, for every `n`
/// from 0 to the total step count of the uncut run; after each cut: reset, reopen, load, and check the
/// restored bytes are exactly the last complete save's (or, when the torn step was the save's very last
/// one, possibly that save's — a torn final word can still carry the full header); then check the store
/// keeps working (one more save restores).
fn sweep<const SIZE: usize, const WORD: usize, const PAGE: usize>(
    region: Region,
    len: usize,
    saves: u32,
) -> Sweep {
    // Reference run without a cut: steps completed when each save returns.
    let mut steps_after = Vec::new();
    let mut store =
        CheckpointStore::new(SimFlash::<SIZE, WORD, PAGE>::new(), region).expect("region");
    for k in 0..saves {
        store.save(MODEL, &payload(k, len)).expect("uncut save");
        steps_after.push(store.flash().steps());
    }
    let flash = store.release();
    assert_eq!(
        flash.overwrites(),
        0,
        "a save programmed a word that was not erased"
    );
    let total = *steps_after.last().expect("saves > 0");

    let mut out = Sweep::default();
    for n in 0..total {
        out.cuts += 1;
        let mut flash = SimFlash::<SIZE, WORD, PAGE>::new();
        flash.cut_after(n);
        let mut store = CheckpointStore::new(flash, region).expect("boot before the cut");
        let mut failed_at = None;
        for k in 0..saves {
            match store.save(MODEL, &payload(k, len)) {
                Ok(seq) => assert_eq!(seq, Seq(k + 1)),
                Err(CheckpointError::Flash(SimFlashError::PowerLost)) => {
                    failed_at = Some(k);
                    break;
                }
                Err(e) => panic!("cut {n}: unexpected error {e:?}"),
            }
        }
        let torn = failed_at.expect("every cut point lies inside some save");
        // Saves 0..torn completed; the step torn is step n + 1 of the run.
        let torn_was_last_step = steps_after[torn as usize] == n + 1;

        let mut flash = store.release();
        flash.power_on();
        let mut store = CheckpointStore::new(flash, region).expect("boot after the cut");
        let mut buf = vec![0xA5u8; len];
        let restored = store.load(MODEL, &mut buf).expect("load after the cut");
        match restored {
            None => {
                assert_eq!(
                    torn,
                    0,
                    "cut {n}: nothing restored though save {} completed",
                    torn - 1
                );
                assert!(
                    buf.iter().all(|&b| b == 0xA5),
                    "cut {n}: buffer touched on Ok(None)"
                );
                out.restored_nothing += 1;
            }
            Some(Restored { seq, len: got }) => {
                assert_eq!(got, len);
                let k = seq.0 - 1;
                assert_eq!(
                    buf,
                    payload(k, len),
                    "cut {n}: restored bytes are not save {k}'s"
                );
                if k + 1 == torn {
                    out.restored_previous += 1;
                } else {
                    assert!(
                        k == torn && torn_was_last_step,
                        "cut {n}: restored save {k}, last complete was {}",
                        torn as i64 - 1
                    );
                    out.restored_torn_save += 1;
                }
            }
        }
        // The store works after the reset: the next save is the newest.
        let next = store.newest().map_or(1, |s| s.0 + 1);
        let fresh = payload(1000 + n, len);
        assert_eq!(
            store.save(MODEL, &fresh).expect("save after reset"),
            Seq(next)
        );
        let mut check = vec![0u8; len];
        let again = store.load(MODEL, &mut check).expect("load").expect("some");
        assert_eq!((again.seq, check), (Seq(next), fresh));
        assert_eq!(store.release().overwrites(), 0);
    }
    out
}

const NRF_REGION: Region = Region {
    offset: 4096,
    slot_size: 4096,
    slots: 2,
};

#[test]
fn power_cut_at_every_step_restores_the_last_complete_checkpoint() {
    // nRF52833-like: 4-byte words, 4 KiB pages; 2 slots; 300-byte state; 6 saves.
    let nrf = sweep::<{ 4 * 4096 }, 4, 4096>(NRF_REGION, 300, 6);
    // Three slots, 1 KiB pages, 2 pages per slot, a state that is not a whole number of words.
    let three = sweep::<{ 8 * 1024 }, 4, 1024>(
        Region {
            offset: 0,
            slot_size: 2048,
            slots: 3,
        },
        1029,
        4,
    );
    // RP2040-like QSPI flash: 256-byte program pages, 4 KiB sectors; state spans several program pages.
    let rp = sweep::<{ 4 * 4096 }, 256, 4096>(
        Region {
            offset: 0,
            slot_size: 8192,
            slots: 2,
        },
        1500,
        8,
    );
    for s in [&nrf, &three, &rp] {
        println!("{s:?}");
        assert_eq!(
            s.cuts,
            s.restored_previous + s.restored_torn_save + s.restored_nothing
        );
    }
    let cuts = nrf.cuts + three.cuts + rp.cuts;
    println!("power cuts tried: {cuts}");
    assert!(cuts >= 1000, "only {cuts} cuts");
    // A cut anywhere before a save's final word must restore the previous save: most cuts do.
    assert!(nrf.restored_previous + nrf.restored_nothing >= nrf.cuts - 6);
}

#[test]
fn a_checkpoint_of_another_model_format_or_size_is_refused_and_the_state_kept() {
    let mut store =
        CheckpointStore::new(SimFlash::<{ 4 * 4096 }, 4, 4096>::new(), NRF_REGION).unwrap();
    store.save(MODEL, &payload(0, 64)).unwrap();
    let mut state = vec![7u8; 64];

    let other = MODEL ^ 1;
    assert_eq!(
        store.load(other, &mut state),
        Err(CheckpointError::ModelMismatch {
            expected: other,
            found: MODEL
        })
    );
    let mut bigger = vec![7u8; 65];
    assert_eq!(
        store.load(MODEL, &mut bigger),
        Err(CheckpointError::SizeMismatch {
            expected: 65,
            found: 64
        })
    );
    assert!(
        state.iter().chain(&bigger).all(|&b| b == 7),
        "refused load touched the state"
    );
    let shown = format!(
        "{}",
        CheckpointError::<SimFlashError>::ModelMismatch {
            expected: other,
            found: MODEL
        }
    );
    assert!(shown.contains("0x0123456789abcdef"), "{shown}");

    // A checkpoint written by a future format (valid CRCs, format 2) in the other slot, newer.
    let mut flash = store.release();
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    h[4..6].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    h[8..16].copy_from_slice(&MODEL.to_le_bytes());
    h[16..20].copy_from_slice(&2u32.to_le_bytes());
    h[20..24].copy_from_slice(&0u32.to_le_bytes());
    h[24..28].copy_from_slice(&engram_link::checkpoint_crc(&[]).to_le_bytes());
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(&h[..28]);
    h[28..32].copy_from_slice(&crc.to_le_bytes());
    flash
        .write(NRF_REGION.offset + NRF_REGION.slot_size, &h)
        .unwrap();
    let mut store = CheckpointStore::new(flash, NRF_REGION).unwrap();
    assert_eq!(store.newest(), Some(Seq(2)));
    // This model's own checkpoint is still found (the future one is another format)...
    assert_eq!(
        store.load(MODEL, &mut state).unwrap(),
        Some(Restored {
            seq: Seq(1),
            len: 64
        })
    );
    assert_eq!(state, payload(0, 64));
    // ...and a model with no checkpoint of its own hears about the newest one: the foreign format.
    assert_eq!(
        store.load(other, &mut state),
        Err(CheckpointError::FormatMismatch {
            supported: FORMAT_VERSION,
            found: FORMAT_VERSION + 1
        })
    );
    // Saving past it works (it lands in the slot after the newest, i.e. overwrites the oldest).
    assert_eq!(store.save(MODEL, &payload(5, 64)).unwrap(), Seq(3));
}

#[test]
fn a_decayed_newest_checkpoint_falls_back_to_the_previous_one() {
    let mut store =
        CheckpointStore::new(SimFlash::<{ 4 * 4096 }, 4, 4096>::new(), NRF_REGION).unwrap();
    store.save(MODEL, &payload(0, 200)).unwrap();
    store.save(MODEL, &payload(1, 200)).unwrap();
    let mut flash = store.release();
    // Slot 1 holds seq 2: flip one payload bit.
    let at = (NRF_REGION.offset + NRF_REGION.slot_size) as usize + HEADER_LEN + 100;
    flash.contents_mut()[at] ^= 0x10;
    let mut store = CheckpointStore::new(flash, NRF_REGION).unwrap();
    let mut state = vec![0u8; 200];
    assert_eq!(
        store.load(MODEL, &mut state).unwrap(),
        Some(Restored {
            seq: Seq(1),
            len: 200
        })
    );
    assert_eq!(state, payload(0, 200));
    // The next save overwrites the decayed slot, not the good one.
    assert_eq!(store.save(MODEL, &payload(2, 200)).unwrap(), Seq(2));
    assert_eq!(
        store.load(MODEL, &mut state).unwrap(),
        Some(Restored {
            seq: Seq(2),
            len: 200
        })
    );
    assert_eq!(state, payload(2, 200));
}

#[test]
fn the_stored_payload_crc_is_the_link_checkpoint_crc() {
    let mut store =
        CheckpointStore::new(SimFlash::<{ 4 * 4096 }, 4, 4096>::new(), NRF_REGION).unwrap();
    let image = payload(3, 123);
    store.save(MODEL, &image).unwrap();
    let flash = store.release();
    let h = &flash.contents()[NRF_REGION.offset as usize..][..HEADER_LEN];
    assert_eq!(
        u32::from_le_bytes(h[24..28].try_into().unwrap()),
        engram_link::checkpoint_crc(&image)
    );
    assert_eq!(u32::from_le_bytes(h[0..4].try_into().unwrap()), MAGIC);
}

#[test]
fn bad_regions_and_oversized_payloads_are_refused() {
    let bad = [
        Region {
            offset: 0,
            slot_size: 4096,
            slots: 1,
        }, // one slot
        Region {
            offset: 100,
            slot_size: 4096,
            slots: 2,
        }, // misaligned
        Region {
            offset: 0,
            slot_size: 2048,
            slots: 2,
        }, // not whole pages
        Region {
            offset: 8192,
            slot_size: 4096,
            slots: 3,
        }, // past the end
    ];
    for region in bad {
        let r = CheckpointStore::new(SimFlash::<{ 4 * 4096 }, 4, 4096>::new(), region);
        assert!(matches!(r, Err(CheckpointError::BadRegion)), "{region:?}");
    }
    let mut store =
        CheckpointStore::new(SimFlash::<{ 4 * 4096 }, 4, 4096>::new(), NRF_REGION).unwrap();
    assert_eq!(store.capacity(), 4096 - HEADER_LEN);
    assert_eq!(
        store.save(MODEL, &[0u8; 4096 - HEADER_LEN + 1]),
        Err(CheckpointError::TooLarge {
            len: 4065,
            capacity: 4064
        })
    );
    assert_eq!(
        store.save(MODEL, &[0u8; 4096 - HEADER_LEN]).unwrap(),
        Seq(1)
    );
}

#[test]
fn sequence_numbers_compare_across_the_wrap() {
    assert!(Seq(0).is_newer_than(Seq(u32::MAX)));
    assert!(Seq(5).is_newer_than(Seq(4)));
    assert!(!Seq(4).is_newer_than(Seq(4)));
    assert!(!Seq(u32::MAX).is_newer_than(Seq(1)));
}

/// A flash that reads only in aligned 4-byte units (as some HALs' NVMC wrappers do), over a SimFlash.
struct WordReads(SimFlash<{ 4 * 4096 }, 4, 4096>);

impl embedded_storage::nor_flash::ErrorType for WordReads {
    type Error = SimFlashError;
}

impl embedded_storage::nor_flash::ReadNorFlash for WordReads {
    const READ_SIZE: usize = 4;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimFlashError> {
        assert!(
            offset.is_multiple_of(4) && bytes.len().is_multiple_of(4),
            "unaligned read {offset} + {}",
            bytes.len()
        );
        self.0.read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl NorFlash for WordReads {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimFlashError> {
        self.0.erase(from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimFlashError> {
        self.0.write(offset, bytes)
    }
}

#[test]
fn a_flash_with_a_4_byte_read_unit_is_only_read_in_whole_units() {
    let mut store = CheckpointStore::new(WordReads(SimFlash::new()), NRF_REGION).unwrap();
    // 1 029 bytes: neither a whole number of read units nor of 32-byte chunks.
    for k in 0..3 {
        store.save(MODEL, &payload(k, 1029)).unwrap();
    }
    let mut store = CheckpointStore::new(store.release(), NRF_REGION).unwrap();
    let mut state = vec![0u8; 1029];
    assert_eq!(
        store.load(MODEL, &mut state).unwrap(),
        Some(Restored {
            seq: Seq(3),
            len: 1029
        })
    );
    assert_eq!(state, payload(2, 1029));
}
