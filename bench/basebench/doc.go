// Command basebench times what relgen build adds in front of packing a
// release: building a base from Debian packages (cold, then from the base
// cache) and the ABI check of a release against that base. The release is
// bench/synth's synthetic one at -scale (17 = ~1 GB), with Debian's real
// ERTS binaries and OTP NIFs copied over its ERTS and into lib/, so the
// check reads real ELF files.
//
//	go run ./bench/basebench -debs DIR -scale 17
//
// DIR holds the .deb files (apt-get download NAME... in it).
package main
