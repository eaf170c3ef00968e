#!/bin/bash
# Deploys the fragile demo.
RELEASE_DIR=/srv/demo/releases
VERSION=$1

cd $RELEASE_DIR
for f in $(ls *.tar.gz); do
  tar xzf $f
done
args=("$@")
echo deploying $args
rm -rf $RELEASE_DIR/$OLD_VERSION/
if [ $VERSION == "" ]; then echo "no version"; fi
