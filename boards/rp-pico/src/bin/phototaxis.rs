#![no_std]
#![no_main]
use defmt_rtt as _;
use panic_probe as _;
use rp2040_hal as hal;
#[unsafe(link_section = ".boot2")]
#[used]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;
#[hal::entry]
fn main() -> ! {
    let _ = usbd_serial::USB_CLASS_CDC;
    defmt::info!("hi");
    loop {}
}
