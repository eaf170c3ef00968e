#!/bin/bash
# Deploys the fragile demo: copies its services into releases/VERSION and writes READY when done. ShellCheck rejects
# it, and it is not repeatable: the second run stops at `mkdir` ("File exists"), the missing -p.
set -e
RELEASE_DIR=releases
VERSION=$1

mkdir $RELEASE_DIR
mkdir $RELEASE_DIR/$VERSION
cd $RELEASE_DIR/$VERSION
for f in $(ls ../../services/*.mjs); do
  cp $f .
done
args=("$@")
echo deploying $args
touch READY
ln -sfn $VERSION ../current
if [ $VERSION == "" ]; then echo "no version"; fi
