//! The phototaxis robot's firmware for the Raspberry Pi Pico (see `README.md` for the wiring).
//!
//! - **Tick** (`TIMER_IRQ_0`, every `TICK_US` µs from an alarm of the 1 MHz TIMER, re-armed at an
//!   absolute time): two ADC conversions (GP26, GP27), then `Robot::tick` (eyes → agent → wheels).
//! - **Main loop** (thread mode, preempted by the tick): USB CDC (`usb-device` + `usbd-serial`), host
//!   messages, telemetry (`Telemetry` + `HealthReport` frames), checkpoints to flash.
//! - **Boot**: clocks (125 MHz), pins, the newest checkpoint of this model restored from flash.
//!
//! The robot is shared through a `critical_section::Mutex<RefCell<..>>`; the long-lived buffers are
//! `StaticCell`s. Boot-time failures (a peripheral taken twice, a clock that does not lock) panic
//! through `panic-probe`, which logs over RTT and halts; nothing after boot can panic.
#![no_std]
#![no_main]

mod flash;

use core::cell::RefCell;

use critical_section::Mutex;
use defmt_rtt as _;
use embedded_hal::digital::OutputPin;
use panic_probe as _;
use rp2040_hal as hal;
use static_cell::StaticCell;
use usb_device::class_prelude::UsbBusAllocator;
use usb_device::prelude::{StringDescriptors, UsbDeviceBuilder, UsbVidPid};
use usbd_serial::SerialPort;

use engram_board::actuator::{Motor, MotorPair};
use engram_board::{CheckpointError, CheckpointStore};
use engram_link::{Decoder, Encoder, MAX_FRAME_LEN, Message, chunks};
use engram_rp_pico::light::{Eyes, LdrConfig};
use engram_rp_pico::outbox::Outbox;
use engram_rp_pico::qspi::{CHECKPOINT_REGION, QspiFlash, WINDOW_OFFSET};
use engram_rp_pico::robot::{Arrays, Request, Robot, STATE_BYTES, Settings, TICK_US, config};
use hal::Clock;
use hal::adc::{Adc, AdcPin};
use hal::gpio::bank0::{Gpio18, Gpio19, Gpio20, Gpio21, Gpio26, Gpio27};
use hal::gpio::{FunctionSioInput, FunctionSioOutput, Pin, PullDown, PullNone};
use hal::pac::{self, interrupt};
use hal::pwm::{A, B, Channel, FreeRunning, Pwm0, Slice};
use hal::timer::{Alarm, Alarm0, Instant, Timer};

/// The second-stage bootloader for the Pico's W25Q16JV (first 256 bytes of flash, see `memory.x`).
#[unsafe(link_section = ".boot2")]
#[used]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The Pico's crystal.
const XTAL_FREQ_HZ: u32 = 12_000_000;
/// Motor PWM frequency: 20 kHz, above hearing.
const PWM_HZ: u32 = 20_000;
/// The watchdog resets the chip if no tick has run for this long (a flash sector erase, during which
/// ticks wait, takes at most 400 ms); the learned state then comes back from flash.
const WATCHDOG_MS: u32 = 1_000;
/// Bytes waiting for the USB port (a few telemetry frames).
const OUTBOX: usize = 2048;

type PwmChannel<C> = Channel<Slice<Pwm0, FreeRunning>, C>;
type Out<I> = Pin<I, FunctionSioOutput, PullDown>;
type Motors =
    MotorPair<PwmChannel<A>, Out<Gpio18>, Out<Gpio19>, PwmChannel<B>, Out<Gpio20>, Out<Gpio21>>;
type Ldr<I> = AdcPin<Pin<I, FunctionSioInput, PullNone>>;

/// What the tick owns.
struct Control {
    robot: Robot<'static, Motors>,
    adc: Adc,
    left: Ldr<Gpio26>,
    right: Ldr<Gpio27>,
    timer: Timer,
    alarm: Alarm0,
    watchdog: hal::Watchdog,
    /// When the next tick is due (TIMER µs since boot).
    next: u64,
    /// Ticks that started more than a whole period late (after a flash write or an overrun): the
    /// schedule was moved instead of running a backlog.
    late: u32,
    telemetry_due: bool,
    checkpoint_due: bool,
}

static CONTROL: Mutex<RefCell<Option<Control>>> = Mutex::new(RefCell::new(None));

#[hal::entry]
fn main() -> ! {
    let mut pac = pac::Peripherals::take().unwrap();
    // Before anything resets it: did the watchdog end the previous run?
    let watchdog_reset = pac.WATCHDOG.reason().read().timer().bit_is_set();
    let mut watchdog = hal::Watchdog::new(pac.WATCHDOG);
    let clocks = hal::clocks::init_clocks_and_plls(
        XTAL_FREQ_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    )
    .ok()
    .unwrap();
    let sio = hal::Sio::new(pac.SIO);
    let pins = hal::gpio::Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );
    let mut timer = Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
    defmt::info!(
        "engram rp-pico phototaxis: {} Hz system clock, tick {} us",
        clocks.system_clock.freq().to_Hz(),
        TICK_US
    );
    if watchdog_reset {
        defmt::warn!(
            "the watchdog reset the previous run (the tick stopped for {} ms)",
            WATCHDOG_MS
        );
    }

    // Wheels: PWM slice 0 (GP16 = A = left, GP17 = B = right), direction pins GP18..GP21, TB6612FNG
    // standby on GP22 (high = bridge enabled).
    let slices = hal::pwm::Slices::new(pac.PWM, &mut pac.RESETS);
    let mut pwm = slices.pwm0;
    let top = clocks.system_clock.freq().to_Hz() / PWM_HZ - 1;
    pwm.set_top(top.min(u32::from(u16::MAX)) as u16);
    pwm.set_div_int(1);
    pwm.enable();
    let mut left_pwm = pwm.channel_a;
    let mut right_pwm = pwm.channel_b;
    left_pwm.output_to(pins.gpio16);
    right_pwm.output_to(pins.gpio17);
    let mut standby = pins.gpio22.into_push_pull_output();
    let motors = MotorPair::new(
        Motor::new(
            left_pwm,
            pins.gpio18.into_push_pull_output(),
            pins.gpio19.into_push_pull_output(),
        ),
        Motor::new(
            right_pwm,
            pins.gpio20.into_push_pull_output(),
            pins.gpio21.into_push_pull_output(),
        ),
    );

    // Eyes: ADC0 (GP26) left, ADC1 (GP27) right; digital input buffers off (AdcPin does it).
    let adc = Adc::new(pac.ADC, &mut pac.RESETS);
    let left = AdcPin::new(pins.gpio26.into_floating_input()).unwrap();
    let right = AdcPin::new(pins.gpio27.into_floating_input()).unwrap();

    // The robot, and its learned state from flash.
    static ARRAYS: StaticCell<Arrays> = StaticCell::new();
    static UPLOAD: StaticCell<[u8; STATE_BYTES]> = StaticCell::new();
    static IMAGE: StaticCell<[u8; STATE_BYTES]> = StaticCell::new();
    let cfg = config();
    let mut robot = Robot::new(
        &cfg,
        ARRAYS.init_with(Arrays::new),
        UPLOAD.init([0; STATE_BYTES]),
        Eyes::new(LdrConfig::DEFAULT),
        motors,
        Settings::DEFAULT,
    )
    .unwrap();
    let image = IMAGE.init([0; STATE_BYTES]);
    let mut store =
        match CheckpointStore::new(QspiFlash::new(flash::RomFlash::new()), CHECKPOINT_REGION) {
            Ok(s) => Some(s),
            Err(e) => {
                defmt::error!(
                    "checkpoint region unusable ({}): learning will not be saved",
                    defmt::Debug2Format(&e)
                );
                None
            }
        };
    if let Some(s) = store.as_mut() {
        match s.load(robot.model_hash(), image) {
            Ok(Some(r)) => match robot.restore(image) {
                Ok(()) => defmt::info!(
                    "restored checkpoint #{} ({} bytes) from flash offset {:#x}",
                    r.seq.0,
                    r.len,
                    WINDOW_OFFSET
                ),
                Err(_) => defmt::error!("checkpoint of the wrong size: starting fresh"),
            },
            Ok(None) => defmt::info!("no checkpoint in flash: starting fresh"),
            Err(CheckpointError::ModelMismatch { .. }) => {
                defmt::warn!(
                    "the checkpoint in flash is another model's: starting fresh (it is kept until overwritten)"
                )
            }
            Err(e) => defmt::warn!("checkpoint not restored: {}", defmt::Debug2Format(&e)),
        }
    }
    let w = robot.weight_stats();
    defmt::info!(
        "weights: mean {} mV, min {} mV, max {} mV",
        w.mean.to_num::<f32>(),
        w.min.to_num::<f32>(),
        w.max.to_num::<f32>()
    );
    standby.set_high().unwrap();

    // USB CDC serial (engram-link frames in both directions).
    static USB_BUS: StaticCell<UsbBusAllocator<hal::usb::UsbBus>> = StaticCell::new();
    let bus = USB_BUS.init(UsbBusAllocator::new(hal::usb::UsbBus::new(
        pac.USBCTRL_REGS,
        pac.USBCTRL_DPRAM,
        clocks.usb_clock,
        true,
        &mut pac.RESETS,
    )));
    let mut serial = SerialPort::new(bus);
    let mut usb = UsbDeviceBuilder::new(bus, UsbVidPid(0x16c0, 0x27dd))
        .strings(&[StringDescriptors::default()
            .manufacturer("engram")
            .product("engram rp-pico phototaxis")
            .serial_number("PICO-PHOTOTAXIS")])
        .unwrap()
        .device_class(usbd_serial::USB_CLASS_CDC)
        .build();

    // The tick.
    let mut alarm = timer.alarm_0().unwrap();
    let next = timer.get_counter().ticks() + u64::from(TICK_US);
    alarm.enable_interrupt();
    alarm.schedule_at(Instant::from_ticks(next)).unwrap();
    watchdog.pause_on_debug(true);
    watchdog.start(hal::fugit::MicrosDurationU32::millis(WATCHDOG_MS));
    critical_section::with(|cs| {
        CONTROL.replace(
            cs,
            Some(Control {
                robot,
                adc,
                left,
                right,
                timer,
                alarm,
                watchdog,
                next,
                late: 0,
                telemetry_due: false,
                checkpoint_due: false,
            }),
        )
    });
    // SAFETY: the handler's state is in place; no critical section relies on this interrupt masked.
    unsafe { pac::NVIC::unmask(pac::Interrupt::TIMER_IRQ_0) };
    defmt::info!("running");

    let mut decoder = Decoder::new();
    let mut encoder = Encoder::new();
    let mut outbox: Outbox<OUTBOX> = Outbox::new();
    let mut logged_overruns = 0;
    loop {
        // Host → board.
        if usb.poll(&mut [&mut serial]) {
            let mut buf = [0u8; 64];
            if let Ok(n) = serial.read(&mut buf) {
                let mut input = buf.get(..n).unwrap_or(&[]);
                while let Some(result) = decoder.feed(&mut input) {
                    let Ok(msg) = result else {
                        continue; // counted by the decoder, reported in telemetry
                    };
                    let request = with_robot(|r| {
                        r.handle(&msg, &mut |reply| {
                            outbox.push(&mut encoder, reply);
                        })
                    });
                    match request {
                        Some(Request::SaveCheckpoint) => {
                            let ok = save(&mut store, image);
                            let reply = if ok {
                                Message::Ack(engram_link::Ack {
                                    of: engram_link::MessageKind::Command,
                                    seq: 0,
                                })
                            } else {
                                Message::Error(engram_link::ErrorReport {
                                    of: engram_link::MessageKind::Command,
                                    code: engram_link::ErrorCode::Unsupported,
                                })
                            };
                            outbox.push(&mut encoder, &reply);
                        }
                        Some(Request::SendCheckpoint) => {
                            with_robot(|r| r.snapshot(image));
                            for chunk in chunks(&image[..]) {
                                // Wait (bounded) for room; a chunk that still does not fit is
                                // dropped and counted, and the host's assembler reports the gap.
                                for _ in 0..100_000 {
                                    if outbox.len() + MAX_FRAME_LEN <= OUTBOX {
                                        break;
                                    }
                                    flush(&mut usb, &mut serial, &mut outbox);
                                }
                                outbox.push(&mut encoder, &Message::Checkpoint(chunk));
                            }
                        }
                        _ => {}
                    }
                }
                let errors = decoder.errors();
                with_robot(|r| r.set_link_errors(errors));
            }
        }

        // Telemetry and periodic checkpoints, when the tick says they are due.
        let due = critical_section::with(|cs| {
            let mut c = CONTROL.borrow_ref_mut(cs);
            let c = c.as_mut()?;
            let telemetry = core::mem::take(&mut c.telemetry_due).then(|| c.robot.telemetry());
            let checkpoint = core::mem::take(&mut c.checkpoint_due);
            let overruns = c.robot.health().deadline.overruns;
            let counts = (
                c.robot.eyes.left.last_counts(),
                c.robot.eyes.right.last_counts(),
            );
            // Every 20th telemetry (24 s): what was learned, for the log.
            let progress = telemetry
                .as_ref()
                .filter(|(t, _)| t.step % 2_000 < 100)
                .map(|_| {
                    let net = c.robot.network();
                    let [ll, lr, rl, rr] = net.block_weights();
                    let last = net.last_outcome();
                    (
                        net.episodes(),
                        last.map_or(0, |o| o.steps),
                        last.is_some_and(|o| o.success),
                        (lr + rl - ll - rr) / 2.0,
                    )
                });
            Some((telemetry, checkpoint, overruns, c.late, counts, progress))
        });
        if let Some((telemetry, checkpoint, overruns, late, (l, r), progress)) = due {
            if let Some((episodes, steps, reached, steering)) = progress {
                defmt::info!(
                    "{} episodes; the last took {} control steps (light reached: {}); steering weight {} mV (> 0: crossed wiring, turns toward the light)",
                    episodes,
                    steps,
                    reached,
                    steering
                );
            }
            if let Some((t, h)) = telemetry {
                // For calibration (`DEFMT_LOG=debug`): raw counts, what the agent sees, the reward.
                defmt::debug!(
                    "step {}: eyes {} / {} counts, present {=u32:02b}, reward {}, mean reward {}",
                    t.step,
                    l,
                    r,
                    h.sensors_present,
                    t.reward.to_num::<f32>(),
                    t.objective.to_num::<f32>()
                );
                outbox.push(&mut encoder, &Message::Telemetry(t));
                outbox.push(&mut encoder, &Message::Health(h));
                if overruns != logged_overruns {
                    logged_overruns = overruns;
                    defmt::warn!(
                        "{} ticks over {} us so far (longest {} us, {} late starts)",
                        overruns,
                        TICK_US,
                        h.max_step_us,
                        late
                    );
                }
            }
            if checkpoint {
                save(&mut store, image);
            }
        }

        flush(&mut usb, &mut serial, &mut outbox);
    }
}

/// Runs `f` on the robot inside a critical section (`None` before the tick is set up).
fn with_robot<T>(f: impl FnOnce(&mut Robot<'static, Motors>) -> T) -> Option<T> {
    critical_section::with(|cs| CONTROL.borrow_ref_mut(cs).as_mut().map(|c| f(&mut c.robot)))
}

/// Hands queued bytes to the USB port (as much as it takes now).
fn flush(
    usb: &mut usb_device::device::UsbDevice<'static, hal::usb::UsbBus>,
    serial: &mut SerialPort<'static, hal::usb::UsbBus>,
    outbox: &mut Outbox<OUTBOX>,
) {
    usb.poll(&mut [&mut *serial]);
    outbox.drain(|bytes| serial.write(bytes).unwrap_or(0));
}

/// Saves the learned state: wheels stopped for the flash write (the tick is blocked meanwhile),
/// snapshot taken atomically, then the slot written (the tick runs between flash operations).
fn save(
    store: &mut Option<CheckpointStore<QspiFlash<flash::RomFlash>>>,
    image: &mut [u8; STATE_BYTES],
) -> bool {
    let Some(store) = store.as_mut() else {
        return false;
    };
    let Some(hash) = with_robot(|r| {
        r.stop_wheels();
        r.snapshot(image);
        r.model_hash()
    }) else {
        return false;
    };
    let result = store.save(hash, &image[..]);
    let ok = result.is_ok();
    with_robot(|r| r.checkpoint_done(ok));
    match result {
        Ok(seq) => defmt::info!("checkpoint #{} saved", seq.0),
        Err(e) => defmt::error!("checkpoint not saved: {}", defmt::Debug2Format(&e)),
    }
    ok
}

#[interrupt]
fn TIMER_IRQ_0() {
    critical_section::with(|cs| {
        let mut guard = CONTROL.borrow_ref_mut(cs);
        let Some(c) = guard.as_mut() else {
            return;
        };
        c.alarm.clear_interrupt();
        c.watchdog.feed();
        let start = c.timer.get_counter_low();
        // Absolute schedule (no drift); after a long stall, move it instead of running a backlog.
        let now = c.timer.get_counter().ticks();
        c.next += u64::from(TICK_US);
        if c.next <= now + 20 {
            c.late = c.late.saturating_add(1);
            c.next = now + u64::from(TICK_US);
        }
        let _ = c.alarm.schedule_at(Instant::from_ticks(c.next));
        let left = c.adc.read(&mut c.left).map_err(|_| ());
        let right = c.adc.read(&mut c.right).map_err(|_| ());
        let timer = &c.timer;
        let tick = c.robot.tick(start, left, right, || timer.get_counter_low());
        c.telemetry_due |= tick.telemetry;
        c.checkpoint_due |= tick.checkpoint;
    });
}
