/**
 * libvirt domain XML: to and from xl.cfg (domxml-to-native / domxml-from-native) and the COLO namespace.
 * @module
 */
export { domainConfigToXml, domainXmlToXlCfg, libvirtFormat, XEN_XL_FORMAT, DomXmlError, type ToNativeResult } from './domxml.js';
export { COLO_NS, isCompleteColo } from './colo-xml.js';
export { coloBlockTrees, type BlockTreeNode, type ColoDiskTrees } from './block-tree.js';
export { parseXml, XmlWriter, XmlError, xmlEscape, type XmlElement, type AttrList } from './xml.js';
