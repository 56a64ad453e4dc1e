//! The handle's life cycle: binding, base URL, stop.
#![allow(clippy::unwrap_used)]

#[test]
fn start_from_sync_code_and_stop_frees_the_port() {
    let handle = outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = handle.base_url().to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_ok());
    handle.stop();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "stopped emulator still accepts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_another_runtime_and_a_busy_port_is_an_error() {
    let handle = outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/_emulator/reset", handle.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let taken: std::net::SocketAddr = handle
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    assert!(outlook_emulator::start(taken).is_err());
    drop(handle);
}
