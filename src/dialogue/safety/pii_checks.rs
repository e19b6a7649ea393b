//! The check digits that tell a real identity or card number from any other run of digits
//! (order numbers, dates, amounts): GB 11643 for mainland resident IDs, the HKID check
//! character, and Luhn for bank cards. Only numbers that pass are treated as personal data.

/// GB 11643-1999 weights of the first 17 digits of a mainland resident ID.
const MAINLAND_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each `sum % 11`.
const MAINLAND_ID_CHECK: &[u8; 11] = b"10X98765432";

/// True when `id` (18 ASCII characters, the last may be `X`/`x`) is a well-formed mainland
/// resident ID: region code not starting with 0, a real birth date in 1800-2099, and the
/// GB 11643 check character.
pub fn is_valid_mainland_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) || bytes[0] == b'0' {
        return false;
    }
    let digit = |i: usize| u32::from(bytes[i] - b'0');
    let number = |from: usize, len: usize| (from..from + len).fold(0, |n, i| n * 10 + digit(i));
    let (year, month, day) = (number(6, 4), number(10, 2), number(12, 2));
    if !(1800..=2099).contains(&year) || !is_real_date(year, month, day) {
        return false;
    }
    let sum: u32 = (0..17).map(|i| digit(i) * MAINLAND_ID_WEIGHTS[i]).sum();
    let expected = MAINLAND_ID_CHECK[(sum % 11) as usize];
    bytes[17].to_ascii_uppercase() == expected
}

fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// True when `letters` (1 or 2 ASCII letters), `digits` (6 ASCII digits) and `check`
/// (`0`-`9` or `A`) form a valid Hong Kong identity card number.
///
/// The 8-character body is the letters padded on the left with a space (worth 36), letters
/// worth A=10 … Z=35, digits their value; weights 9 down to 2; the check is
/// `(11 − sum mod 11) mod 11`, written `A` for 10.
pub fn is_valid_hkid(letters: &str, digits: &str, check: char) -> bool {
    if !(1..=2).contains(&letters.len())
        || !letters.bytes().all(|b| b.is_ascii_alphabetic())
        || digits.len() != 6
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let mut values: Vec<u32> = Vec::with_capacity(8);
    if letters.len() == 1 {
        values.push(36);
    }
    values.extend(
        letters
            .bytes()
            .map(|b| u32::from(b.to_ascii_uppercase() - b'A') + 10),
    );
    values.extend(digits.bytes().map(|b| u32::from(b - b'0')));
    let sum: u32 = values.iter().zip((2..=9).rev()).map(|(v, w)| v * w).sum();
    let expected = match (11 - sum % 11) % 11 {
        10 => 'A',
        n => char::from(b'0' + n as u8),
    };
    check.to_ascii_uppercase() == expected
}

/// True when `digits` (ASCII digits only) passes the Luhn check used by payment cards.
pub fn passes_luhn(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match (i % 2 == 1, d * 2) {
                (false, _) => d,
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// True when `digits` looks like a payment card: 13-19 digits, an issuer prefix that card
/// schemes use (3 Amex/JCB/Diners, 4 Visa, 5 and 2221-2720 Mastercard, 6 UnionPay/Discover),
/// and the Luhn check. The prefix rule keeps date-led order numbers (`2024…`) out even in
/// the one case in ten where they happen to pass Luhn.
pub fn is_card_number(digits: &str) -> bool {
    if !(13..=19).contains(&digits.len()) || !passes_luhn(digits) {
        return false;
    }
    match digits.as_bytes()[0] {
        b'3'..=b'6' => true,
        b'2' => digits[..4]
            .parse::<u32>()
            .is_ok_and(|p| (2221..=2720).contains(&p)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_ids_pass_only_with_the_right_check_character_and_a_real_date() {
        for valid in [
            "360426199101010071",
            "11010519491231002X",
            "11010519491231002x",
            "440304200002290014",
        ] {
            assert!(is_valid_mainland_id(valid), "{valid}");
        }
        for invalid in [
            "360426199101010072", // wrong check digit
            "11010519491231002Y",
            "440304190002290011", // 1900 is not a leap year
            "360426199113010071", // month 13
            "060426199101010071", // region code starts with 0
            "36042619910101007",  // 17 characters
        ] {
            assert!(!is_valid_mainland_id(invalid), "{invalid}");
        }
    }

    #[test]
    fn hkid_check_characters_follow_the_weighted_sum() {
        for (letters, digits, check) in [
            ("G", "123456", 'A'),
            ("A", "555555", '0'),
            ("C", "567890", '9'),
            ("AB", "987654", '3'),
            ("g", "123456", 'a'),
        ] {
            assert!(
                is_valid_hkid(letters, digits, check),
                "{letters}{digits}{check}"
            );
        }
        for (letters, digits, check) in [
            ("C", "668668", 'E'),
            ("C", "567890", '1'),
            ("A", "555555", 'A'),
            ("ABC", "123456", '0'),
            ("G", "12345", 'A'),
        ] {
            assert!(
                !is_valid_hkid(letters, digits, check),
                "{letters}{digits}{check}"
            );
        }
    }

    #[test]
    fn luhn_and_issuer_prefix_decide_card_numbers() {
        for card in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "4222222222222",
            "6200000000000005",
            "6222021234567890128",
            "2221000000000009",
        ] {
            assert!(is_card_number(card), "{card}");
        }
        assert!(!is_card_number("4111111111111112"), "Luhn fails");
        assert!(!is_card_number("20241122000123"), "order number");
        assert!(!is_card_number("411111111111"), "12 digits");
        // Luhn-valid but no card scheme starts with 1, 7, 8, 9 or 2000.
        assert!(passes_luhn("2000000000000006"));
        assert!(!is_card_number("2000000000000006"));
        assert!(passes_luhn("1000000000009"));
        assert!(!is_card_number("1000000000009"));
    }
}
