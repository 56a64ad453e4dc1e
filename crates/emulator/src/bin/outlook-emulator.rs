//! Runs the emulator standalone: `outlook-emulator [--host 127.0.0.1] [--port 0]`.
//! Prints its base URL as line 1 of stdout, then serves until the process is stopped.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

fn parse_args() -> Result<SocketAddr, String> {
    let mut host: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--host" => {
                host = value("--host")?
                    .parse()
                    .map_err(|e| format!("--host: {e}"))?
            }
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "-h" | "--help" => {
                return Err("usage: outlook-emulator [--host ADDR] [--port PORT]".to_owned());
            }
            other => {
                return Err(format!(
                    "unknown argument '{other}'; usage: outlook-emulator [--host ADDR] [--port PORT]"
                ));
            }
        }
    }
    Ok(SocketAddr::new(host, port))
}

fn main() -> ExitCode {
    let addr = match parse_args() {
        Ok(addr) => addr,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let handle = match outlook_emulator::start(addr) {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("outlook-emulator: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "{}", handle.base_url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    // The server runs on its own thread until the process is terminated.
    loop {
        std::thread::park();
    }
}
