{
  "format": 1,
  "signatures": {
    "notes": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "ATZrhxPJw17qzp8e1oLyq77oQRZTWKQFHvRP2-5Ef7bCoRJ6wvrZpJisf721d2xLq3jPnza31Ib-mo4DTxqMBQ"
    },
    "weather": {
      "key": "dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I",
      "sig": "h3-f-R74xO-OXzlrCyIon35MbQlBPVCjJfleA5NiokQh9lH0UO--1Kt7__ptpyRGpjcXwvI-I1Yugp3XFGB_BQ"
    }
  }
}
