module github.com/kmsshare/kmsshare

go 1.24
