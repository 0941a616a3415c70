{
  "format": 1,
  "signatures": {
    "browser": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "9Df_HIxQ0q0kvi-2SzzoGSImv0du7Aj3onSrGfD8NpBno-7lDocItmmzjfPlbwZPz2a_me7zEc85glzB6tgwBg"
    },
    "calendar": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "RQPSNJI64kU33nai6tRNlDmZq55hydHTnioo36Tb_x-_V6kojMOBDrNKLTiF_jVYIbK21uFcOtvTKz06iW8bAw"
    },
    "coding": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "528OWNMWgOjfmDB365XxKJQij3A9pSb1lgQxyV-L9Qc6L3TAeH347IjSU5oHzNPFlf5P0F6Clie2LA8hfjmkAg"
    },
    "github": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "BJ5XKo4STbIJ2VMXx2vupO8Pp_XM1IJuhTKfOpU0sQJ5cLDlsWFHwZ4Gum3TSiw-VaJerArJrs6_MKrZbVkBAw"
    },
    "gmail": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "2l3_hHq1QAlFYQ4UCyA0yzSjj6bxUWZJ0Ipvn__jMhkqBLLdhT7IwzSwdTo83XW2H04FcmalH_4dqw3nsv15Aw"
    },
    "hue": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "GHKxnIpbAEYjkivreyxJSyBafjcn0sLrV-4dyyWwNRKFtLd-QnAFyWZ14uVhYRQm5Hs4x2SjrKTNahM58U_8Ag"
    },
    "notes": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "ATZrhxPJw17qzp8e1oLyq77oQRZTWKQFHvRP2-5Ef7bCoRJ6wvrZpJisf721d2xLq3jPnza31Ib-mo4DTxqMBQ"
    },
    "sonos": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "lYEApqikVGD-UshjhojdhShUIvbKO9XuzvOkuqh-IwYXaXRvWfqVXB8AQgGqoT_jsIaPgvzZHpoCmr9ZlszLDQ"
    },
    "weather": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "h3-f-R74xO-OXzlrCyIon35MbQlBPVCjJfleA5NiokQh9lH0UO--1Kt7__ptpyRGpjcXwvI-I1Yugp3XFGB_BQ"
    }
  }
}
