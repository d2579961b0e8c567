// The char-LSTM training step's matrix products (nnbench's train case: Embedding 64 + LSTM 256,
// b32 T64, Linear to vocab 96) through cblas_sgemm alone, to see how much of the step OpenBLAS
// itself takes (Benchmarks/results/2026-12-04-issue11-cpu-pool-and-lstm.txt).
//   cc -O2 Benchmarks/tools/lstm_gemms.c -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -o /tmp/lstm_gemms
//   /tmp/lstm_gemms; OPENBLAS_CORETYPE=Haswell /tmp/lstm_gemms
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct {int m,n,k,ta,calls;const char*name;} S;
int main(){
  S s[]={{2048,1024,64,0,1,"input projection (B^T)"},{32,1024,256,0,64,"forward step"},{32,256,1024,0,64,"backward carry"},
         {2048,64,1024,0,1,"dX"},{1024,64,2048,1,1,"dW_ih (A^T)"},{1024,256,2016,1,1,"dW_hh (A^T)"},{2048,96,256,0,1,"vocab linear fwd"},{2048,256,96,0,1,"vocab dX"},{96,256,2048,1,1,"vocab dW"}};
  float *a=malloc(4<<24),*b=malloc(4<<24),*c=malloc(4<<24);
  for(int i=0;i<(1<<24);i++){a[i]=b[i]=1e-3f*(i%7);c[i]=0;}
  double total=0;
  for(int i=0;i<9;i++){S x=s[i];double best=1e9;
    for(int r=0;r<7;r++){double t0=now();for(int j=0;j<x.calls;j++){
      if(x.ta) cblas_sgemm(CblasRowMajor,CblasTrans,CblasNoTrans,x.m,x.n,x.k,1,a,x.m,b,x.n,0,c,x.n);
      else cblas_sgemm(CblasRowMajor,CblasNoTrans,i==0?CblasTrans:CblasNoTrans,x.m,x.n,x.k,1,a,x.k,b,i==0?x.k:x.n,1,c,x.n);}
      double t=now()-t0; if(t<best)best=t;}
    total+=best; printf("%-24s %4dx%4dx%4d x%2d  %7.2f ms  %.0f GFLOP/s\n",x.name,x.m,x.n,x.k,x.calls,best*1e3,2.0*x.m*x.n*x.k*x.calls/best/1e9);}
  printf("total %.2f ms\n",total*1e3);
}
