// Package abi checks, before an image is built, that the native code of a
// release can be loaded on the base image it is put onto.
//
// ERTS (erts-*/bin) and the NIFs and port programs under lib/*/priv are
// ELF files linked against shared libraries. Scan reads what each of them
// needs with debug/elf: its program interpreter (the dynamic loader), its
// DT_NEEDED sonames and its versioned symbol needs (GLIBC_2.34,
// OPENSSL_3.0.0, GLIBCXX_3.4.29, ...). It also notes the interpreter of
// shell scripts (#!/bin/sh) in bin/ and erts-*/bin, which the boot needs.
//
// ReadImage and ReadFS read what a root file system provides: every shared
// object in the loader's search directories (the default ones plus those
// in /etc/ld.so.conf.d), with its soname and the symbol versions it
// defines, following symlinks as the loader would. Check compares the two
// and returns an *Error listing every need the base cannot meet, each
// naming the file, the library or version, and the base, so that
// "GLIBC_2.34 not found" or a missing libcrypto.so.3 is found at build
// time rather than when the pod starts.
//
// Everything here is pure apart from reading the release directory (Scan)
// and the image layers (ReadImage).
package abi
