//! UTF-8 ⇄ the fixed arrays VST3 uses (`char8` C strings, `char16`/`String128` UTF-16).

use std::ffi::c_char;

/// Copies `src` into `dst` as a NUL-terminated C string, truncating (on a char boundary) to fit.
pub fn copy_cstring(src: &str, dst: &mut [c_char]) {
    if dst.is_empty() {
        return;
    }
    let mut end = src.len().min(dst.len() - 1);
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    for (d, s) in dst.iter_mut().zip(src.as_bytes()[..end].iter()) {
        *d = *s as c_char;
    }
    dst[end] = 0;
}

/// Copies `src` into `dst` as NUL-terminated UTF-16, truncating to fit.
pub fn copy_wstring(src: &str, dst: &mut [u16]) {
    if dst.is_empty() {
        return;
    }
    let mut n = 0;
    let room = dst.len() - 1;
    for (d, s) in dst.iter_mut().take(room).zip(src.encode_utf16()) {
        *d = s;
        n += 1;
    }
    dst[n] = 0;
}

/// The text of a NUL-terminated (or full) C string array, lossily decoded.
pub fn cstring_from_array(src: &[c_char]) -> String {
    let bytes: Vec<u8> = src
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The text of a NUL-terminated (or full) UTF-16 array, lossily decoded.
pub fn wstring_from_array(src: &[u16]) -> String {
    let len = src.iter().position(|&c| c == 0).unwrap_or(src.len());
    String::from_utf16_lossy(&src[..len])
}

/// Reads a NUL-terminated UTF-16 string of at most `max` units from a raw pointer.
///
/// # Safety
///
/// `ptr` must be null or point to readable `u16`s up to a NUL or `max` units.
pub unsafe fn wstring_from_ptr(ptr: *const u16, max: usize) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    let mut units = Vec::new();
    for i in 0..max {
        // SAFETY: readable up to the NUL or `max` units by contract; we stop at the NUL.
        let c = unsafe { ptr.add(i).read_unaligned() };
        if c == 0 {
            break;
        }
        units.push(c);
    }
    Some(String::from_utf16_lossy(&units))
}

/// Reads a NUL-terminated C string of at most `max` bytes from a raw pointer.
///
/// # Safety
///
/// `ptr` must be null or point to readable bytes up to a NUL or `max` bytes.
pub unsafe fn cstring_from_ptr(ptr: *const c_char, max: usize) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    let mut bytes = Vec::new();
    for i in 0..max {
        // SAFETY: readable up to the NUL or `max` bytes by contract; we stop at the NUL.
        let c = unsafe { ptr.add(i).read() };
        if c == 0 {
            break;
        }
        bytes.push(c as u8);
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_truncates() {
        let mut c = [0 as c_char; 6];
        copy_cstring("héllo!", &mut c);
        assert_eq!(cstring_from_array(&c), "héll");
        let mut w = [0u16; 4];
        copy_wstring("abcdef", &mut w);
        assert_eq!(wstring_from_array(&w), "abc");
    }
}
