use super::get_str;
use crate::resource::service::format_uuid_v4;
use crate::resource::{ResourceDetector, ServiceInstanceDetector};

fn assert_uuid_v4(id: &str) {
    let groups: Vec<&str> = id.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{id}"
    );
    assert!(
        id.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
    assert!(groups[2].starts_with('4'), "version 4: {id}");
    assert!(
        groups[3].starts_with(['8', '9', 'a', 'b']),
        "RFC 4122 variant: {id}"
    );
}

#[test]
fn uuid_formatting() {
    assert_eq!(
        format_uuid_v4([0; 16]),
        "00000000-0000-4000-8000-000000000000"
    );
    assert_eq!(
        format_uuid_v4([0xff; 16]),
        "ffffffff-ffff-4fff-bfff-ffffffffffff"
    );
    assert_eq!(
        format_uuid_v4([
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
            0xde, 0xf0
        ]),
        "12345678-9abc-4ef0-9234-56789abcdef0"
    );
    for _ in 0..100 {
        assert_uuid_v4(&format_uuid_v4(rand::random()));
    }
}

#[test]
fn one_id_per_process() {
    let a = ServiceInstanceDetector::new().detect();
    let b = ServiceInstanceDetector::default().detect();
    let id = get_str(&a, "service.instance.id").unwrap();
    assert_uuid_v4(id);
    assert_eq!(get_str(&b, "service.instance.id"), Some(id));
}

#[test]
fn given_id() {
    let resource = ServiceInstanceDetector::with_id("pod-7").detect();
    assert_eq!(get_str(&resource, "service.instance.id"), Some("pod-7"));
}
