//! The simulated flash behaves like NOR flash and tears a step the documented way.

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use engram_board::{SimFlash, SimFlashError};

type Flash = SimFlash<{ 2 * 64 }, 4, 64>;

fn read(f: &mut Flash, at: u32, n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    f.read(at, &mut v).unwrap();
    v
}

#[test]
fn erased_is_ff_writes_only_clear_bits_and_erase_restores_ones() {
    let mut f = Flash::new();
    assert_eq!(read(&mut f, 0, 128), vec![0xFF; 128]);
    f.write(4, &[0xF0, 0x0F, 0xAA, 0x55]).unwrap();
    assert_eq!(f.overwrites(), 0);
    f.write(4, &[0x3C, 0x3C, 0xFF, 0x00]).unwrap();
    assert_eq!(read(&mut f, 4, 4), [0x30, 0x0C, 0xAA, 0x00], "old & new");
    assert_eq!(f.overwrites(), 1);
    f.erase(0, 64).unwrap();
    assert_eq!(read(&mut f, 0, 64), vec![0xFF; 64]);
    assert_eq!((f.steps(), f.erases()), (3, 1));
}

#[test]
fn misaligned_and_out_of_bounds_operations_are_refused() {
    let mut f = Flash::new();
    assert_eq!(f.write(2, &[0; 4]), Err(SimFlashError::NotAligned));
    assert_eq!(f.write(0, &[0; 3]), Err(SimFlashError::NotAligned));
    assert_eq!(f.write(128, &[0; 4]), Err(SimFlashError::OutOfBounds));
    assert_eq!(f.erase(0, 32), Err(SimFlashError::NotAligned));
    assert_eq!(f.erase(64, 192), Err(SimFlashError::OutOfBounds));
    assert_eq!(f.read(120, &mut [0; 16]), Err(SimFlashError::OutOfBounds));
    assert_eq!(f.steps(), 0, "refused operations take no step");
    assert_eq!(f.capacity(), 128);
}

#[test]
fn a_cut_completes_n_steps_tears_the_next_and_kills_the_power_until_reset() {
    let mut f = Flash::new();
    f.cut_after(2);
    let data = [0x00u8; 16];
    assert_eq!(f.write(0, &data), Err(SimFlashError::PowerLost));
    assert!(!f.is_powered());
    assert_eq!(f.read(0, &mut [0; 4]), Err(SimFlashError::PowerLost));
    assert_eq!(f.erase(64, 128), Err(SimFlashError::PowerLost));
    f.power_on();
    // Words 0 and 1 programmed; word 2 torn: first half programmed, middle byte only its high nibble.
    assert_eq!(
        read(&mut f, 0, 16),
        [
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
        ]
    );
    assert_eq!(f.steps(), 3);

    // A torn erase leaves the first half of the page and erases the second.
    f.write(64, &[0u8; 64]).unwrap();
    f.cut_after(0);
    assert_eq!(f.erase(64, 128), Err(SimFlashError::PowerLost));
    f.power_on();
    let page = read(&mut f, 64, 64);
    assert!(page[..32].iter().all(|&b| b == 0) && page[32..].iter().all(|&b| b == 0xFF));
}
